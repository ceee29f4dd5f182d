// Present so that the build-dependencies in Cargo.toml take part in feature unification
// of the host (proc-macro) dependencies.
fn main() {}
