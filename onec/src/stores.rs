//! The stores open in this process, shared by every `Pitstop` object that opens them.
//!
//! 1C creates one add-in object per session (per form, per scheduled job), and in
//! client-server mode a worker process runs many sessions on its threads at once. A store
//! is open through one engine per process (its lock refuses a second), so the objects of
//! one process that open the same store share one engine here; the engine is closed when
//! the last of them closes. Another process that opens the same sled directory gets
//! `locked`, with a hint towards a store that several processes can share.
//!
//! The key is the store string exactly as given to `Open`: the core decides what it means
//! (a sled directory today, a PostgreSQL connection string once that backend exists), and
//! this module never interprets it.

use pitstop_core::{Engine, EngineOptions, Error, ErrorCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// One open store and the options it was opened with.
pub struct SharedStore {
    /// The store string given to `Open`.
    key: String,
    /// The options as the core read them, to compare a second `Open` with.
    options: Value,
    /// Largest request the store accepts, in bytes.
    pub request_bytes_max: usize,
    /// The engine every object on this store calls.
    pub engine: Engine,
}

/// The open stores of this process by store string. An entry lives while an object holds
/// its store: objects release it through [`release`], which closes the last.
static OPEN_STORES: Mutex<BTreeMap<String, Weak<SharedStore>>> = Mutex::new(BTreeMap::new());

/// Open `store` with `options_json`, or join the engine another object of this process
/// already opened on it with the same options.
pub fn open(store: &str, options_json: &str) -> Result<Arc<SharedStore>, Error> {
    let options = EngineOptions::from_json(options_json)?;
    let options_value = serde_json::to_value(&options)
        .map_err(|err| Error::internal(format!("options do not encode: {err}")))?;
    // Held across Engine::open: two objects opening one store at once must not both
    // open it (the second would get `locked` from its own process).
    let mut open_stores = OPEN_STORES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(shared) = open_stores.get(store).and_then(Weak::upgrade) {
        if shared.options != options_value {
            return Err(other_options(store, &shared.options, &options_value));
        }
        return Ok(shared);
    }
    let request_bytes_max = options.request_bytes_max;
    let engine = Engine::open(store, options).map_err(explain_locked)?;
    let shared = Arc::new(SharedStore {
        key: store.to_string(),
        options: options_value,
        request_bytes_max,
        engine,
    });
    open_stores.insert(store.to_string(), Arc::downgrade(&shared));
    Ok(shared)
}

/// Let go of one object's hold on its store; the last one closes the engine (waiting for
/// operations in flight, syncing, releasing the lock) and returns what the close did.
pub fn release(shared: Arc<SharedStore>) -> Result<(), Error> {
    let mut open_stores = OPEN_STORES.lock().unwrap_or_else(PoisonError::into_inner);
    // Under the lock nobody else can take a new hold, so a count of one is final.
    if Arc::strong_count(&shared) > 1 {
        // Dropped under the lock too, so the next release counts exactly.
        drop(shared);
        return Ok(());
    }
    open_stores.remove(&shared.key);
    // Closed under the lock, so an Open of the same store that follows finds it released.
    let closed = shared.engine.close();
    drop(shared);
    drop(open_stores);
    closed
}

#[cfg(test)]
/// How many objects of this process hold `store` (0 when it is not open here).
pub fn holders(store: &str) -> usize {
    let open_stores = OPEN_STORES.lock().unwrap_or_else(PoisonError::into_inner);
    open_stores.get(store).map_or(0, Weak::strong_count)
}

fn other_options(store: &str, open_with: &Value, asked: &Value) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        format!(
            "the store {store} is already open in this process with other options: open it \
             with the same options, or close every object using it first"
        ),
    )
    .with_details(json!({ "argument": "optionsJSON", "open_with": open_with, "asked": asked }))
}

/// A `locked` store from 1C is most often a second 1C worker process: say what to do.
fn explain_locked(error: Error) -> Error {
    if error.code != ErrorCode::Locked {
        return error;
    }
    let message = format!(
        "{}. In client-server 1C every worker process loads the add-in, and a store \
         directory is open in one process at a time: give Open a PostgreSQL connection \
         string instead, a store that every worker process shares",
        error.message
    );
    let mut details = error.details;
    if let Value::Object(fields) = &mut details {
        fields.insert("shared_store".into(), json!("postgresql"));
    }
    Error::new(ErrorCode::Locked, message).with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_share_one_engine_and_the_last_closes_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("shared");
        let store = store.to_str().unwrap();
        let first = open(store, "").unwrap();
        let second = open(store, "{}").unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(holders(store), 2);
        release(first).unwrap();
        assert!(!second.engine.is_closed());
        assert_eq!(holders(store), 1);
        let watcher = Arc::downgrade(&second);
        release(second).unwrap();
        assert!(watcher.upgrade().is_none());
        assert_eq!(holders(store), 0);
        // Released: it opens again.
        release(open(store, "").unwrap()).unwrap();
    }

    #[test]
    fn a_second_open_with_other_options_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("options");
        let store = store.to_str().unwrap();
        let first = open(store, "").unwrap();
        let error = open(store, r#"{"durability": "import"}"#)
            .err()
            .expect("other options are refused");
        assert_eq!(error.code, ErrorCode::InvalidArgument);
        assert_eq!(error.details["argument"], "optionsJSON");
        release(first).unwrap();
    }

    #[test]
    fn locked_points_to_a_shared_store() {
        let error = explain_locked(
            Error::new(ErrorCode::Locked, "the store at /x is already open")
                .with_details(json!({"path": "/x"})),
        );
        assert_eq!(error.code, ErrorCode::Locked);
        assert!(error.message.contains("PostgreSQL"));
        assert_eq!(error.details["path"], "/x");
        assert_eq!(error.details["shared_store"], "postgresql");
    }
}
