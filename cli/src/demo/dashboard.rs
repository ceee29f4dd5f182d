//! The owner's dashboard of the demo shop (`report.dashboard` over the whole history),
//! written next to the demo store: `./pitstop-demo` gets `./pitstop-demo-dashboard.html`.
//! A PostgreSQL store has no directory to sit beside, so its page goes to the current
//! directory.

use crate::Failure;
use crate::report::write_dashboard;
use chrono::NaiveDate;
use pitstop_core::Engine;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The page's name after the store's.
const SUFFIX: &str = "-dashboard.html";
/// The page's name for a store without a directory (PostgreSQL).
const SHARED_STORE_FILE: &str = "pitstop-demo-dashboard.html";

/// The page the demo wrote.
pub(super) struct Written {
    pub file: PathBuf,
    pub bytes: u64,
    pub seconds: f64,
}

impl Written {
    pub fn to_json(&self) -> Value {
        json!({ "file": self.file, "bytes": self.bytes, "seconds": self.seconds })
    }
}

/// Where the dashboard of the store at `store` goes.
pub(super) fn file_for(store: &Path) -> PathBuf {
    if Engine::is_shared_store(store) {
        return PathBuf::from(SHARED_STORE_FILE);
    }
    let name = store
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pitstop-demo".to_string());
    store.with_file_name(format!("{name}{SUFFIX}"))
}

/// Write the dashboard of `from..=to`, made at the end of the demo's day `to` (what
/// expires soon counts from it).
pub(super) fn write(
    engine: &Engine,
    store: &Path,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Written, Failure> {
    let started = Instant::now();
    let file = file_for(store);
    let args = json!({ "from": from, "to": to, "at": super::moscow(to, 21, 0) });
    let bytes = write_dashboard(engine, args, &file)?;
    Ok(Written {
        file,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_sits_beside_a_directory_store() {
        assert_eq!(
            file_for(Path::new("./pitstop-demo")),
            PathBuf::from("./pitstop-demo-dashboard.html")
        );
        assert_eq!(
            file_for(Path::new("/var/shop/store")),
            PathBuf::from("/var/shop/store-dashboard.html")
        );
    }
}
