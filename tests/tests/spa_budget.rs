//! The SPA's size budget: each build of the app (`frontend/dist`, as `infra/test.sh` builds
//! it: the desk and the console) stays under 1 MB (1,000,000 bytes) gzipped, the limit the
//! product promises for a cold load. Past it, split the build further (docs/frontend.md, "Size"); the figure and
//! the desktop's time to interactive are in docs/benchmarks.md (`desk_tti`). The wasm must
//! also be served gzipped: build.sh writes the `.gz` copy the backend sends.

use hotline_e2e::browser::repo_root;

const BUDGET: usize = 1_000_000;

#[test]
fn each_build_stays_under_one_megabyte_gzipped_and_has_its_gzip_copy() {
    let dist = repo_root().join("frontend/dist");
    let mut wasms: Vec<_> = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e} (run frontend/build.sh)", dist.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    wasms.sort();
    // The desk (agent desktop) and the console (every other screen): see docs/frontend.md.
    let names: Vec<String> = wasms
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("hotline-desk-"))
            && names.iter().any(|n| n.starts_with("hotline-console-")),
        "frontend/dist should hold the desk and the console builds, has {names:?}"
    );
    let index = std::fs::read_to_string(dist.join("index.html")).expect("index.html");
    for (wasm, name) in wasms.iter().zip(&names) {
        assert!(
            index.contains(name.as_str()),
            "index.html does not load {name}"
        );
        let raw = std::fs::metadata(wasm).unwrap().len();
        let size = std::process::Command::new("gzip")
            .args(["-9", "-c", "-n"])
            .arg(wasm)
            .output()
            .expect("gzip")
            .stdout
            .len();
        assert!(
            size < BUDGET,
            "{name}: {size} bytes gzipped, over the {BUDGET}-byte budget: split the build further"
        );
        let copy = wasm.with_extension("wasm.gz");
        let served = std::fs::metadata(&copy)
            .unwrap_or_else(|e| panic!("{}: {e}: build.sh writes it", copy.display()))
            .len() as usize;
        assert!(
            served.abs_diff(size) < 1_000,
            "the served copy of {name} ({served} bytes) is not this wasm gzipped ({size})"
        );
        println!("{name}: {raw} bytes, {size} gzipped");
    }
}
