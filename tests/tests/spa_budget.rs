//! The SPA's size budget: the built wasm (`frontend/dist`, as `infra/test.sh` builds it) stays
//! under 1 MB (1,000,000 bytes) gzipped, the limit the product promises for a cold load of the
//! agent desktop. Past it, the build must be split (docs/frontend.md, "Size"); the figure and
//! the desktop's time to interactive are in docs/benchmarks.md (`desk_tti`). The wasm must
//! also be served gzipped: build.sh writes the `.gz` copy the backend sends.

use hotline_e2e::browser::repo_root;

const BUDGET: usize = 1_000_000;

#[test]
fn the_wasm_stays_under_one_megabyte_gzipped_and_has_its_gzip_copy() {
    let dist = repo_root().join("frontend/dist");
    let wasm = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e} (run frontend/build.sh)", dist.display()))
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "wasm"))
        .expect("a built wasm in frontend/dist");
    let raw = std::fs::metadata(&wasm).unwrap().len();
    let size = std::process::Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .arg(&wasm)
        .output()
        .expect("gzip")
        .stdout
        .len();
    assert!(
        size < BUDGET,
        "{}: {size} bytes gzipped, over the {BUDGET}-byte budget: split the build",
        wasm.display()
    );
    let copy = wasm.with_extension("wasm.gz");
    let served = std::fs::metadata(&copy)
        .unwrap_or_else(|e| panic!("{}: {e}: build.sh writes it", copy.display()))
        .len() as usize;
    assert!(
        served.abs_diff(size) < 1_000,
        "the served copy ({served} bytes) is not this wasm gzipped ({size})"
    );
    println!("{}: {raw} bytes, {size} gzipped", wasm.display());
}
