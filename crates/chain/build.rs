//! The bindings are generated from the forge artifacts: rebuild when they change, and say how to
//! produce them when they are missing.
fn main() {
    // Read at run time, not with env!(): a build script compiled in one clone is reused by
    // another clone sharing the target directory, and must look at its own contracts.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::path::Path::new(&manifest_dir).join("../../contracts/out");
    println!("cargo:rerun-if-changed={}", out.display());
    let missing: Vec<&str> = ["TangibleMarket", "TestEuro"]
        .into_iter()
        .filter(|name| {
            let artifact = out.join(format!("{name}.sol/{name}.json"));
            println!("cargo:rerun-if-changed={}", artifact.display());
            !artifact.exists()
        })
        .collect();
    if !missing.is_empty() {
        // One line instead of a build-script panic and its backtrace hint.
        println!(
            "cargo::error=contracts/out has no forge artifact for {}: run `make contracts` first",
            missing.join(", ")
        );
    }
}
