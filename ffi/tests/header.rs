//! The committed header is what cbindgen generates from the source today, and the C test
//! program calls every function it declares.
//!
//! `PITSTOP_BLESS=1 cargo test --release -p pitstop-ffi --test header` rewrites the header.

use std::path::Path;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn generate() -> String {
    let dir = Path::new(MANIFEST_DIR);
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_current() {
    let path = Path::new(MANIFEST_DIR).join("include/pitstop.h");
    let generated = generate();
    if std::env::var_os("PITSTOP_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: regenerate it with \
         `PITSTOP_BLESS=1 cargo test --release -p pitstop-ffi --test header` and commit it",
        path.display()
    );
}

/// Names of the functions the header declares: top-level lines with a `(`.
fn declared_functions(header: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in header.lines() {
        let top_level = line.starts_with(|c: char| c.is_ascii_alphabetic());
        let Some(open) = line.find('(').filter(|_| top_level) else {
            continue;
        };
        let name: String = line[..open]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if name.starts_with("pitstop_") {
            names.push(name);
        }
    }
    names
}

#[test]
fn the_c_tests_call_every_function_of_the_header() {
    let header = generate();
    let functions = declared_functions(&header);
    assert!(functions.len() >= 9, "found only {functions:?}");
    let c_test =
        std::fs::read_to_string(Path::new(MANIFEST_DIR).join("../tests/c/abi_test.c")).unwrap();
    for function in &functions {
        assert!(
            c_test.contains(&format!("{function}(")),
            "tests/c/abi_test.c never calls {function}"
        );
    }
    assert!(header.contains("#define PITSTOP_ABI_VERSION 1"));
}
