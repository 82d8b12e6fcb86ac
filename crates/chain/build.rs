//! The bindings are generated from the forge artifacts: rebuild when they change, and say how to
//! produce them when they are missing.
fn main() {
    // Read at run time, not with env!(): a build script compiled in one clone is reused by
    // another clone sharing the target directory, and must look at its own contracts.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::path::Path::new(&manifest_dir).join("../../contracts/out");
    println!("cargo:rerun-if-changed={}", out.display());
    for name in ["TangibleMarket", "TestEuro"] {
        let artifact = out.join(format!("{name}.sol/{name}.json"));
        println!("cargo:rerun-if-changed={}", artifact.display());
        if !artifact.exists() {
            panic!(
                "missing forge artifact {}: run `make contracts` (forge build) before building tangible-chain",
                artifact.display()
            );
        }
    }
}
