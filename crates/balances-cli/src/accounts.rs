//! Where the accounts come from: `--config`, the default config file, or the environment.

use std::path::{Path, PathBuf};

use balances::{Account, Config, ConfigError};

/// The accounts to fetch, and the file they came from (for messages).
#[derive(Debug)]
pub struct Loaded {
    pub accounts: Vec<Account>,
    pub source: String,
}

/// Why no accounts could be loaded.
#[derive(Debug)]
pub enum LoadError {
    Config(ConfigError),
    NoAccounts { default_path: Option<PathBuf> },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Config(error) => write!(f, "{error}"),
            LoadError::NoAccounts { default_path } => {
                write!(f, "no accounts configured: pass --config FILE")?;
                if let Some(path) = default_path {
                    write!(f, ", create {}", path.display())?;
                }
                write!(f, ", or set {} (try --demo)", environment_hint())
            }
        }
    }
}

/// The credential variables of every vendor, for messages:
/// `DEEPSEEK_API_KEY, EIOTCLUB_APPKEY and EIOTCLUB_SECRET, or GEEKAI_API_KEY`.
pub fn environment_hint() -> String {
    let per_vendor: Vec<String> = balances::env::credential_variables()
        .into_iter()
        .map(|(_, variables)| listed(&variables, " and "))
        .collect();
    listed(&per_vendor, ", or ")
}

/// `a, b{last}c`: items separated by commas, the last one by `last` (` and `, `, or `).
pub fn listed(items: &[impl AsRef<str>], last: &str) -> String {
    match items.split_last() {
        Some((only, [])) => only.as_ref().to_owned(),
        Some((final_item, rest)) => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{}{last}{}", rest.join(", "), final_item.as_ref())
        }
        None => String::new(),
    }
}

/// `$XDG_CONFIG_HOME/balances/config.toml` (on Linux usually `~/.config/balances/config.toml`).
pub fn default_config_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    etcetera::choose_base_strategy()
        .ok()
        .map(|strategy| strategy.config_dir().join("balances").join("config.toml"))
}

/// Resolves accounts in the documented order: `--config FILE`, else the default config file if
/// it exists, else the vendor environment variables.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, LoadError> {
    if let Some(path) = explicit {
        return from_file(path);
    }
    let default_path = default_config_path();
    if let Some(path) = default_path.as_deref().filter(|path| path.is_file()) {
        return from_file(path);
    }
    let accounts = Account::from_env().map_err(LoadError::Config)?;
    if accounts.is_empty() {
        return Err(LoadError::NoAccounts { default_path });
    }
    Ok(Loaded {
        accounts,
        source: "environment".to_owned(),
    })
}

fn from_file(path: &Path) -> Result<Loaded, LoadError> {
    warn_if_readable_by_others(path);
    let config = Config::from_path(path).map_err(LoadError::Config)?;
    Ok(Loaded {
        accounts: config.into_accounts(),
        source: path.display().to_string(),
    })
}

/// A config file may hold keys; like ssh with a private key, say so when others can read it.
#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: {} is accessible by other users (mode {mode:04o}); it may hold keys: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}
