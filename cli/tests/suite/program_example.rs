//! docs/program.example.json is `Program::example()` pretty-printed, and `init` accepts it.
//! Regenerate with `PITSTOP_BLESS=1 cargo test -p pitstop-cli --test suite -- program_example::`.

use std::path::Path;

#[test]
fn shipped_example_programme_is_the_core_example() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/program.example.json");
    let expected = serde_json::to_string_pretty(&pitstop_core::Program::example()).unwrap() + "\n";
    if std::env::var_os("PITSTOP_BLESS").is_some() {
        std::fs::write(&file, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&file).unwrap();
    assert_eq!(actual, expected, "regenerate with PITSTOP_BLESS=1");
}
