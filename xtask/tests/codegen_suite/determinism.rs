//! The generation is a pure function of `specs/`: the same bytes every run, and the files
//! checked in under `crates/` are exactly what it produces today.

use xtask::codegen::{Options, generate_vendor, run};

use crate::support::{vendors, workspace_root};

#[test]
fn generating_twice_gives_byte_identical_files() {
    let root = workspace_root();
    for vendor in vendors() {
        let vendor = vendor.as_str();
        let first = generate_vendor(&root, vendor).unwrap_or_else(|e| panic!("{e}"));
        let second = generate_vendor(&root, vendor).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.document, second.document, "{vendor}: document");
        assert_eq!(first.repairs, second.repairs, "{vendor}: repairs");
        let names: Vec<_> = first.files.iter().map(|f| f.relative.clone()).collect();
        assert_eq!(
            names,
            [
                "source.toml",
                "Cargo.toml",
                "src/lib.rs",
                "README.md",
                "openapi.json"
            ]
            .iter()
            .map(|file| {
                if *file == "source.toml" {
                    std::path::PathBuf::from(format!("specs/{vendor}/source.toml"))
                } else {
                    std::path::PathBuf::from(format!("crates/{vendor}-client/{file}"))
                }
            })
            .collect::<Vec<_>>(),
            "{vendor}: planned files"
        );
        assert_eq!(first.files.len(), second.files.len());
        for (a, b) in first.files.iter().zip(&second.files) {
            assert_eq!(a.relative, b.relative);
            assert!(
                a.contents.as_bytes() == b.contents.as_bytes(),
                "{vendor}: {} differs between two runs",
                a.relative.display()
            );
        }
    }
}

#[test]
fn the_checked_in_workspace_is_up_to_date() {
    let outcomes = run(&Options {
        root: workspace_root(),
        only: None,
        check: true,
        build: false,
    })
    .unwrap_or_else(|e| panic!("codegen --check failed: {e}"));
    let reported: Vec<&str> = outcomes.iter().map(|o| o.vendor.as_str()).collect();
    for vendor in vendors() {
        let vendor = vendor.as_str();
        assert!(
            reported.contains(&vendor),
            "{vendor} missing from {reported:?}"
        );
    }
    for outcome in &outcomes {
        let stale: Vec<String> = outcome
            .changed
            .iter()
            .map(|(path, diff)| format!("{}\n{diff}", path.display()))
            .collect();
        assert!(
            stale.is_empty(),
            "{}: stale files; run `cargo xtask codegen`\n{}",
            outcome.vendor,
            stale.join("\n")
        );
    }
}
