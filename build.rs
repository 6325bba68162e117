//! Embeds every stdlib/*.res module in the binary, so an installed `res` needs no files beside it.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=stdlib");
    let mut modules: Vec<_> = fs::read_dir("stdlib")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "res"))
                .collect()
        })
        .unwrap_or_default();
    modules.sort();
    let mut out = String::from("/// (module name, source) for every stdlib module, sorted by name.\npub static STDLIB: &[(&str, &str)] = &[\n");
    for p in &modules {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_stem().unwrap().to_string_lossy();
        let abs = fs::canonicalize(p).unwrap();
        out.push_str(&format!(
            "    (\"std/{name}\", include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("stdlib.rs"),
        out,
    )
    .unwrap();
}
