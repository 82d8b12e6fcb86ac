//! The bindings are generated from the forge artifacts: rebuild when they change, and say how to
//! produce them when they are missing.
fn main() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/out");
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
