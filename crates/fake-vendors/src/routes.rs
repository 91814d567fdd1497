//! Which vendor, and which of its regions, answers a request path.
//!
//! The rule, for every vendor of the registry: a vendor with one server is served under
//! `/<vendor-id>`, a vendor with regions under `/<vendor-id>/<region>` for each region; the
//! balance operation's path from the spec follows. A base URL is therefore
//! `http://127.0.0.1:PORT/<vendor-id>[/<region>]`, and the client appends the path as it does
//! to the real server.

use balances_registry::VendorEntry;

use crate::catalog;

/// The path prefix of a vendor (in a region): `/<vendor-id>` or `/<vendor-id>/<region>`.
pub(crate) fn prefix(vendor_id: &str, region: Option<&str>) -> String {
    match region {
        Some(region) => format!("/{vendor_id}/{region}"),
        None => format!("/{vendor_id}"),
    }
}

/// One served balance operation.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) vendor: &'static VendorEntry,
    /// The region this route serves, for a vendor with regions.
    pub(crate) region: Option<&'static str>,
    /// The full path template: prefix, then the spec's path (which may hold `{param}`s).
    template: String,
    /// Which further operation this route serves (an index into the vendor's
    /// `operations`), or `None` for the balance operation.
    pub(crate) further: Option<usize>,
}

impl Route {
    /// The HTTP method the route's operation takes.
    pub(crate) fn method(&self) -> &'static str {
        match self.further {
            Some(index) => &self.vendor.operations[index].method,
            None => &self.vendor.method,
        }
    }
}

/// Every route of every vendor in the registry.
#[derive(Debug)]
pub(crate) struct Routes(Vec<Route>);

impl Routes {
    pub(crate) fn from_registry() -> Self {
        let mut routes = Vec::new();
        for vendor in balances_registry::vendors() {
            let regions: Vec<Option<&'static str>> = if vendor.description.regions.is_empty() {
                vec![None]
            } else {
                catalog::regions(vendor).map(Some).collect()
            };
            for region in regions {
                routes.push(Route {
                    vendor,
                    region,
                    template: format!("{}{}", prefix(&vendor.id, region), vendor.path),
                    further: None,
                });
                // The further operations of a balance of several (new-api's usage).
                for (index, operation) in vendor.operations.iter().enumerate() {
                    routes.push(Route {
                        vendor,
                        region,
                        template: format!("{}{}", prefix(&vendor.id, region), operation.path),
                        further: Some(index),
                    });
                }
            }
        }
        Routes(routes)
    }

    /// The route whose template matches `path`.
    pub(crate) fn find(&self, path: &str) -> Option<&Route> {
        self.0.iter().find(|r| matches(&r.template, path))
    }
}

/// Whether `path` fits `template`, segment by segment; a `{param}` segment matches any
/// non-empty segment (specs write path parameters that way).
fn matches(template: &str, path: &str) -> bool {
    let mut expected = template.split('/');
    let mut given = path.split('/');
    loop {
        match (expected.next(), given.next()) {
            (None, None) => return true,
            (Some(e), Some(g)) if e.starts_with('{') && e.ends_with('}') && !g.is_empty() => {}
            (Some(e), Some(g)) if e == g => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments() {
        assert!(matches("/v/user/balance", "/v/user/balance"));
        assert!(!matches("/v/user/balance", "/v/user/balance/"));
        assert!(!matches("/v/user/balance", "/v/user"));
        assert!(!matches("/v/user/balance", "/v/user/balances"));
        assert!(matches("/v/keys/{id}", "/v/keys/abc"));
        assert!(!matches("/v/keys/{id}", "/v/keys/"));
    }

    #[test]
    fn every_vendor_and_region_has_a_route() {
        let routes = Routes::from_registry();
        for vendor in balances_registry::vendors() {
            let regions: Vec<Option<&str>> = if vendor.description.regions.is_empty() {
                vec![None]
            } else {
                vendor
                    .description
                    .regions
                    .iter()
                    .map(|r| Some(r.name.as_str()))
                    .collect()
            };
            for region in regions {
                let path = format!("{}{}", prefix(&vendor.id, region), vendor.path);
                let route = routes.find(&path).expect("a route");
                assert_eq!(route.vendor.id, vendor.id);
                assert_eq!(route.region, region);
            }
        }
        assert!(routes.find("/no-such-vendor/balance").is_none());
        for vendor in balances_registry::vendors() {
            for (index, operation) in vendor.operations.iter().enumerate() {
                let path = format!("{}{}", prefix(&vendor.id, None), operation.path);
                let route = routes.find(&path).expect("a route for a further operation");
                assert_eq!(
                    (route.vendor.id.as_str(), route.further),
                    (vendor.id.as_str(), Some(index))
                );
                assert_eq!(route.method(), operation.method);
            }
        }
    }
}
