//! Golden outputs of every vendor folder: the document its client is generated from, and the
//! public API of its generated client. A change to a repair pass, an overlay or the generator
//! settings shows up here as a reviewable diff.

use std::mem;

use syn::{ImplItem, Item, Visibility};
use xtask::codegen::generate_vendor;

use crate::support::workspace_root;

fn settings(description: String) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_description(description);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// The exact document given to progenitor, as `generate_vendor` produces it.
fn assert_openapi_snapshot(vendor: &str) {
    let generated = generate_vendor(&workspace_root(), vendor)
        .unwrap_or_else(|e| panic!("codegen failed for {vendor}: {e}"));
    // `assert_json_snapshot!` would print each number as `{"$serde_json::private::Number": ..}`
    // because serde_json's `arbitrary_precision` is on in this workspace, so the parsed
    // document is snapshot as serde_json prints it (sorted keys, as in `openapi.json`).
    let json = serde_json::to_string_pretty(&generated.document).expect("a JSON value prints");
    settings(format!(
        "generate_vendor(root, {vendor:?}).document: what progenitor is given (openapi.json)"
    ))
    .bind(|| {
        insta::assert_snapshot!(format!("{vendor}_openapi"), json);
    });
}

/// The public API of the checked-in `crates/<vendor>-client/src/lib.rs`.
fn assert_public_api_snapshot(vendor: &str) {
    let path = workspace_root()
        .join("crates")
        .join(format!("{vendor}-client"))
        .join("src")
        .join("lib.rs");
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let api = public_api(&source);
    settings(format!(
        "public API of crates/{vendor}-client/src/lib.rs: bodies, private fields, attributes \
         other than derive, and trait impl items omitted"
    ))
    .bind(|| {
        insta::assert_snapshot!(format!("{vendor}_public_api"), api);
    });
}

/// Every vendor folder's snapshot, each checked even when an earlier one failed, so one run
/// (and one `cargo insta review`) shows them all. A new folder's snapshots start as
/// `.snap.new` files for review: codegen's output for it has never been read by a person.
fn for_every_vendor(assert_snapshot: fn(&str)) {
    let failed: Vec<String> = crate::support::vendors()
        .into_iter()
        .filter(|vendor| std::panic::catch_unwind(|| assert_snapshot(vendor)).is_err())
        .collect();
    assert!(
        failed.is_empty(),
        "snapshots differ or are new for {failed:?}: review them with `cargo insta review`"
    );
}

#[test]
fn every_vendor_openapi_document() {
    for_every_vendor(assert_openapi_snapshot);
}

#[test]
fn every_vendor_public_api() {
    for_every_vendor(assert_public_api_snapshot);
}

/// A stable Rust skeleton of everything public in `source`: public modules, structs with their
/// public fields and derives, enums, consts, `use` re-exports, free functions and inherent
/// methods with their signatures (bodies emptied), and the traits each type implements (items
/// omitted). Attributes other than `derive`, and doc comments, are dropped.
pub fn public_api(source: &str) -> String {
    let mut file = syn::parse_file(source).expect("generated code parses");
    file.attrs.clear();
    file.items = skeleton(mem::take(&mut file.items));
    prettyplease::unparse(&file)
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn empty_block() -> syn::Block {
    syn::parse_str("{}").expect("an empty block parses")
}

fn keep_derives(attrs: &mut Vec<syn::Attribute>) {
    attrs.retain(|attr| attr.path().is_ident("derive"));
}

fn public_fields(fields: &mut syn::Fields) {
    match fields {
        syn::Fields::Named(named) => {
            named.named = mem::take(&mut named.named)
                .into_iter()
                .filter(|field| is_pub(&field.vis))
                .map(|mut field| {
                    field.attrs.clear();
                    field
                })
                .collect();
        }
        syn::Fields::Unnamed(unnamed) => {
            unnamed.unnamed = mem::take(&mut unnamed.unnamed)
                .into_iter()
                .filter(|field| is_pub(&field.vis))
                .map(|mut field| {
                    field.attrs.clear();
                    field
                })
                .collect();
        }
        syn::Fields::Unit => {}
    }
}

fn skeleton(items: Vec<Item>) -> Vec<Item> {
    items
        .into_iter()
        .filter_map(|item| match item {
            Item::Const(mut item) if is_pub(&item.vis) => {
                item.attrs.clear();
                Some(Item::Const(item))
            }
            Item::Use(mut item) if is_pub(&item.vis) => {
                item.attrs.clear();
                Some(Item::Use(item))
            }
            Item::Type(mut item) if is_pub(&item.vis) => {
                item.attrs.clear();
                Some(Item::Type(item))
            }
            Item::Struct(mut item) if is_pub(&item.vis) => {
                keep_derives(&mut item.attrs);
                public_fields(&mut item.fields);
                Some(Item::Struct(item))
            }
            Item::Enum(mut item) if is_pub(&item.vis) => {
                keep_derives(&mut item.attrs);
                for variant in &mut item.variants {
                    variant.attrs.clear();
                    public_fields(&mut variant.fields);
                }
                Some(Item::Enum(item))
            }
            Item::Fn(mut item) if is_pub(&item.vis) => {
                item.attrs.clear();
                *item.block = empty_block();
                Some(Item::Fn(item))
            }
            Item::Mod(mut item) if is_pub(&item.vis) => {
                item.attrs.clear();
                let (_, items) = item.content.as_mut()?;
                *items = skeleton(mem::take(items));
                (!items.is_empty()).then_some(Item::Mod(item))
            }
            Item::Impl(mut item) => {
                item.attrs.clear();
                if item.trait_.is_some() {
                    item.items.clear();
                    return Some(Item::Impl(item));
                }
                item.items = mem::take(&mut item.items)
                    .into_iter()
                    .filter_map(|impl_item| match impl_item {
                        ImplItem::Fn(mut function) if is_pub(&function.vis) => {
                            function.attrs.clear();
                            function.block = empty_block();
                            Some(ImplItem::Fn(function))
                        }
                        ImplItem::Const(mut constant) if is_pub(&constant.vis) => {
                            constant.attrs.clear();
                            Some(ImplItem::Const(constant))
                        }
                        _ => None,
                    })
                    .collect();
                (!item.items.is_empty()).then_some(Item::Impl(item))
            }
            _ => None,
        })
        .collect()
}

fn checked_in_public_api(vendor: &str) -> String {
    let path = workspace_root()
        .join("crates")
        .join(format!("{vendor}-client"))
        .join("src")
        .join("lib.rs");
    public_api(&std::fs::read_to_string(&path).expect("read lib.rs"))
}

/// The decisions the snapshots were reviewed for, asserted outright so that accepting a
/// changed snapshot without reading it cannot silently undo them.
#[test]
fn the_public_apis_keep_the_reviewed_decisions() {
    let decimal = "::std::option::Option<::balances_runtime::ExactDecimal>";

    let deepseek = checked_in_public_api("deepseek");
    for field in ["total_balance", "granted_balance", "topped_up_balance"] {
        assert!(
            deepseek.contains(&format!("pub {field}: {decimal},")),
            "{field}"
        );
    }
    assert!(deepseek.contains("pub fn get_user_balance(&self) -> builder::GetUserBalance<'_>"));
    assert!(
        deepseek.contains("Error<types::ErrorBody>"),
        "typed error body"
    );
    assert!(deepseek.contains("pub struct ErrorDetail {"));

    let geekai = checked_in_public_api("geekai");
    assert!(geekai.contains(&format!("pub balance: {decimal},")));
    assert!(
        geekai.contains("pub fn get_credit_balance(&self) -> builder::GetCreditBalance<'_>"),
        "no uuid argument"
    );
    assert!(!geekai.to_lowercase().contains("uuid"));
    assert!(geekai.contains("pub data: ::std::option::Option<CreditBalanceData>,"));
    assert!(
        geekai.contains("Error<types::ErrorBody>"),
        "typed error body"
    );
    assert!(geekai.contains(
        "pub struct ErrorBody {\n        pub code: ::std::string::String,\n        pub message: ::std::string::String,\n    }"
    ));

    let eiotclub = checked_in_public_api("eiotclub");
    assert!(eiotclub.contains("pub struct GetAgentBalanceBody {"));
    assert!(
        !eiotclub.contains("pub struct X "),
        "no type named after an empty title"
    );
    assert!(eiotclub.contains("pub balance: ::balances_runtime::ExactDecimal,"));
    assert!(
        eiotclub.contains("pub code: ::serde_json::Value,"),
        "string or number"
    );
    assert!(eiotclub.contains("pub data: ::std::option::Option<AgentBalance>,"));
    assert!(eiotclub.contains("pub operator: ::std::option::Option<i64>,"));
    assert!(eiotclub.contains("pub fn get_agent_balance(&self) -> builder::GetAgentBalance<'_>"));

    // Every vendor: no number goes through f64, and the runtime is shared, not copied.
    for vendor in crate::support::vendors() {
        let lib = std::fs::read_to_string(
            workspace_root()
                .join("crates")
                .join(format!("{vendor}-client"))
                .join("src/lib.rs"),
        )
        .expect("read lib.rs");
        assert!(!lib.contains("f64"), "{vendor}: no amount goes through f64");
        assert!(
            lib.contains(
                "impl progenitor_client::ClientHooks<balances_runtime::Context> for Client"
            ),
            "{vendor}: the hooks hand requests to the shared runtime"
        );
        for copied in [
            "RequestHeaders",
            "limit_response_body",
            "MAX_RESPONSE_BODY_BYTES: usize",
        ] {
            assert!(
                !lib.contains(copied),
                "{vendor}: `{copied}` is the runtime's, not copied"
            );
        }
        assert!(
            lib.contains("pub const BINDING: balances_runtime::Binding"),
            "{vendor}"
        );
    }
}
