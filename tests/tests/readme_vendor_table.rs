//! README's vendor table is written by people (what is exact, what is unconfirmed), but which
//! vendors it lists and their regions come from the registry: a folder added without a row, a
//! row left for a removed folder, or a default region changed in `vendor.toml` but not in the
//! README fails here.

use std::collections::BTreeSet;
use std::path::Path;

use balances::balances_registry::vendors;

const TABLE_HEADER: &str =
    "| id | balance endpoint | auth (key needed) | amounts | unit, currency | regions |";

/// The rows of the README's vendor table: (id, regions cell).
fn vendor_rows(readme: &str) -> Vec<(String, String)> {
    let mut lines = readme.lines().skip_while(|line| *line != TABLE_HEADER);
    assert!(
        lines.next().is_some(),
        "README.md has no vendor table headed {TABLE_HEADER:?}"
    );
    lines
        .skip(1) // the |---| line
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            let id = cells[0].trim().trim_matches('`').to_owned();
            let regions = cells.last().map(|cell| cell.trim().to_owned());
            (id, regions.unwrap_or_default())
        })
        .collect()
}

#[test]
fn the_vendor_table_lists_every_registry_vendor_once_with_its_regions() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let rows = vendor_rows(&readme);
    let listed: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let unique: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "a vendor listed twice: {listed:?}"
    );
    let registered: BTreeSet<&str> = vendors().iter().map(|v| v.id.as_str()).collect();
    assert_eq!(
        unique, registered,
        "README's vendor table and the registry (specs/*) disagree"
    );

    for (id, regions) in &rows {
        let description = &vendors()
            .iter()
            .find(|v| &v.id == id)
            .expect("checked above")
            .description;
        match &description.default_region {
            None => assert!(
                regions.starts_with("one"),
                "{id}: one server, but the regions cell says {regions:?}"
            ),
            Some(default) => {
                assert!(
                    regions.contains(&format!("`{default}` (default")),
                    "{id}: the default region is {default}, but the regions cell says {regions:?}"
                );
                for region in &description.regions {
                    assert!(
                        regions.contains(&format!("`{}`", region.name)),
                        "{id}: region {} is missing from {regions:?}",
                        region.name
                    );
                }
            }
        }
    }
}
