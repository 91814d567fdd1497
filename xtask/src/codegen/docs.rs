//! Every public item of a generated crate gets a doc comment.
//!
//! progenitor documents what the spec describes; schemas and properties without a
//! `description`, and the builders' setters, come out undocumented. Rather than leave
//! `missing_docs` off in the generated crates, each such item gets a short, honest line saying
//! what it is and that the spec says no more. Works on prettyplease's output (one item per line,
//! docs as `///` lines), before rustfmt.

/// `code` with a `///` line before every undocumented public item, enum variant included.
pub fn document_public_items(code: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    // The first line of the current run of doc and attribute lines, and whether it had a doc.
    let mut run_start: Option<usize> = None;
    let mut documented = false;
    // Open brackets of a multi-line attribute (`#[derive(\n ...\n)]`).
    let mut attribute_depth = 0_i32;
    // The indentation of the variants of the `pub enum` being read, if any.
    let mut variant_indent: Option<String> = None;

    for line in code.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        if attribute_depth > 0 {
            attribute_depth += bracket_balance(trimmed);
            out.push(line.to_owned());
            continue;
        }
        if trimmed.starts_with("///") || trimmed.starts_with("#[") {
            run_start.get_or_insert(out.len());
            documented |= trimmed.starts_with("///") || trimmed.starts_with("#[doc");
            attribute_depth = bracket_balance(trimmed);
            out.push(line.to_owned());
            continue;
        }
        let in_enum = variant_indent.as_deref() == Some(indent);
        let doc = if in_enum {
            variant_doc(trimmed)
        } else {
            item_doc(trimmed)
        };
        if let (Some(doc), false) = (doc, documented) {
            out.insert(run_start.unwrap_or(out.len()), format!("{indent}/// {doc}"));
        }
        if trimmed.starts_with("pub enum ") && trimmed.ends_with('{') {
            variant_indent = Some(format!("{indent}    "));
        } else if variant_indent
            .as_deref()
            .is_some_and(|inner| trimmed == "}" && inner.strip_suffix("    ") == Some(indent))
        {
            variant_indent = None;
        }
        out.push(line.to_owned());
        run_start = None;
        documented = false;
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// How far a line opens (`[`) or closes (`]`) an attribute.
fn bracket_balance(line: &str) -> i32 {
    line.chars()
        .map(|c| match c {
            '[' => 1,
            ']' => -1,
            _ => 0,
        })
        .sum()
}

/// The doc line for a public item, when `line` starts one.
fn item_doc(line: &str) -> Option<String> {
    let rest = line.strip_prefix("pub ")?;
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(name) = rest.strip_prefix("fn ").map(word) {
        return Some(if rest.contains("(mut self, value: T) -> Self") {
            format!("Sets `{name}`.")
        } else if name == "builder" {
            "A builder for this type.".to_owned()
        } else if name == "new" {
            "Creates a new value.".to_owned()
        } else {
            format!("`{name}` (the spec gives no description).")
        });
    }
    for (keyword, what) in [
        ("struct ", "type"),
        ("enum ", "type"),
        ("type ", "type"),
        ("mod ", "module"),
        ("trait ", "trait"),
        ("const ", "constant"),
    ] {
        if let Some(name) = rest.strip_prefix(keyword).map(word) {
            return Some(format!(
                "The `{name}` {what} (the spec gives no description)."
            ));
        }
    }
    // `pub name: Type,` — a field. `pub use`, `pub(crate)` and the like are not items to
    // document.
    let name = word(rest);
    (!name.is_empty() && rest[name.len()..].starts_with(':'))
        .then(|| format!("The `{name}` property (the spec gives no description)."))
}

/// The doc line for an enum variant, when `line` starts one.
fn variant_doc(line: &str) -> Option<String> {
    let name: String = line
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let starts_upper = name.chars().next().is_some_and(char::is_uppercase);
    (starts_upper).then(|| format!("The `{name}` value."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undocumented_items_get_a_line_and_documented_ones_keep_theirs() {
        let code = "\
pub mod types {
    ///Documented.
    #[derive(
        Clone,
    )]
    pub struct A {
        pub x: u8,
        ///Has one.
        pub y: u8,
    }
    #[derive(Clone)]
    pub enum Kind {
        Usd,
        #[serde(rename = \"x\")]
        Diem(u8),
    }
    pub fn field<T>(mut self, value: T) -> Self {}
    pub(crate) inner: u8,
    pub use self::super::Client;
}
";
        let documented = document_public_items(code);
        let expected = "\
/// The `types` module (the spec gives no description).
pub mod types {
    ///Documented.
    #[derive(
        Clone,
    )]
    pub struct A {
        /// The `x` property (the spec gives no description).
        pub x: u8,
        ///Has one.
        pub y: u8,
    }
    /// The `Kind` type (the spec gives no description).
    #[derive(Clone)]
    pub enum Kind {
        /// The `Usd` value.
        Usd,
        /// The `Diem` value.
        #[serde(rename = \"x\")]
        Diem(u8),
    }
    /// Sets `field`.
    pub fn field<T>(mut self, value: T) -> Self {}
    pub(crate) inner: u8,
    pub use self::super::Client;
}
";
        assert_eq!(documented, expected);
    }
}
