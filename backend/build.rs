//! Embeds the SQL files of `migrations/platform` and `migrations/tenant` into the binary, so
//! the server needs no files at run time and a new migration needs no code change.

use std::{env, fmt::Write, fs, path::Path};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut out = String::new();
    for (set, konst) in [("platform", "PLATFORM"), ("tenant", "TENANT")] {
        let dir = root.join(set);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        writeln!(out, "pub const {konst}: &[Migration] = &[").unwrap();
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let (num, name) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("{stem}: name migrations NNNN_name.sql"));
            let version: i32 = num.parse().unwrap_or_else(|_| panic!("{stem}: bad number"));
            println!("cargo:rerun-if-changed={}", path.display());
            writeln!(
                out,
                "    Migration {{ version: {version}, name: {name:?}, sql: include_str!({:?}) }},",
                path.canonicalize().unwrap().display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("migrations.rs"),
        out,
    )
    .unwrap();
}
