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
    /// The `[history]` table, which the command reads itself, is wrong.
    History(String),
    NoAccounts {
        default_path: Option<PathBuf>,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Config(error) => write!(f, "{error}"),
            LoadError::History(message) => write!(f, "table `history`: {message}"),
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
    read(explicit)?.accounts()
}

/// Where the accounts will come from, with the config file's `[history]` table already
/// read: the command starts on the history before the accounts are parsed
/// ([`Source::accounts`]).
#[derive(Debug)]
pub struct Source {
    origin: Origin,
    history: crate::history::HistoryConfig,
}

#[derive(Debug)]
enum Origin {
    /// A config file's text, without its `[history]` table.
    File {
        path: PathBuf,
        accounts_text: String,
    },
    /// A config file that could not be read: the facade words the error.
    Unreadable(PathBuf),
    Environment {
        default_path: Option<PathBuf>,
    },
}

/// The first half of [`load`]: finds the source and reads the `[history]` table, in the
/// same order.
pub fn read(explicit: Option<&Path>) -> Result<Source, LoadError> {
    match config_file(explicit) {
        Ok(path) => read_file(&path),
        Err(default_path) => Ok(Source {
            origin: Origin::Environment { default_path },
            history: crate::history::HistoryConfig::default(),
        }),
    }
}

/// The config file to read: `--config FILE`, else the default file if it exists; else the
/// default file's path, if there is one, for the message when no account is found.
fn config_file(explicit: Option<&Path>) -> Result<PathBuf, Option<PathBuf>> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    match default_config_path() {
        Some(path) if path.is_file() => Ok(path),
        default_path => Err(default_path),
    }
}

fn read_file(path: &Path) -> Result<Source, LoadError> {
    warn_if_readable_by_others(path);
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Source {
            origin: Origin::Unreadable(path.to_owned()),
            history: crate::history::HistoryConfig::default(),
        });
    };
    let (history, rewritten) = split_history_table(&text)?;
    let accounts_text = match rewritten {
        std::borrow::Cow::Owned(rewritten) => rewritten,
        std::borrow::Cow::Borrowed(_) => text,
    };
    Ok(Source {
        origin: Origin::File {
            path: path.to_owned(),
            accounts_text,
        },
        history,
    })
}

impl Source {
    /// The config file's `[history]` table (empty without a file).
    pub fn history(&self) -> &crate::history::HistoryConfig {
        &self.history
    }

    /// The second half of [`load`]: the accounts.
    pub fn accounts(self) -> Result<Loaded, LoadError> {
        let (accounts, source) = match self.origin {
            Origin::File {
                path,
                accounts_text,
            } => {
                let config = Config::from_toml_str(&accounts_text, |name| std::env::var(name).ok())
                    .map_err(LoadError::Config)?;
                (config.into_accounts(), path.display().to_string())
            }
            Origin::Unreadable(path) => {
                let config = Config::from_path(&path).map_err(LoadError::Config)?;
                (config.into_accounts(), path.display().to_string())
            }
            Origin::Environment { default_path } => {
                let accounts = Account::from_env().map_err(LoadError::Config)?;
                if accounts.is_empty() {
                    return Err(LoadError::NoAccounts { default_path });
                }
                (accounts, "environment".to_owned())
            }
        };
        Ok(Loaded { accounts, source })
    }
}

/// The `[history]` table of the config file that [`load`] would read (`--config FILE`, else
/// the default file if it exists), without loading any account: `balances history` needs
/// no credentials.
pub fn history_config(explicit: Option<&Path>) -> Result<crate::history::HistoryConfig, LoadError> {
    let Ok(path) = config_file(explicit) else {
        return Ok(crate::history::HistoryConfig::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        LoadError::History(format!("cannot read config file {}: {e}", path.display()))
    })?;
    split_history_table(&text).map(|(history, _)| history)
}

/// Takes the `[history]` table out of a config file's text: the command reads it, and the
/// facade's `Config` (which refuses keys it does not know) reads the rest. Text without the
/// table is passed on unchanged, so the facade's syntax errors keep their line numbers; text
/// with it is written back without it (its errors name accounts and fields, not lines).
fn split_history_table(
    text: &str,
) -> Result<(crate::history::HistoryConfig, std::borrow::Cow<'_, str>), LoadError> {
    let Ok(mut table) = text.parse::<toml::Table>() else {
        // Not TOML: the facade says where and why.
        return Ok((crate::history::HistoryConfig::default(), text.into()));
    };
    let Some(history) = table.remove("history") else {
        return Ok((crate::history::HistoryConfig::default(), text.into()));
    };
    let history = crate::history::HistoryConfig::from_toml(history).map_err(LoadError::History)?;
    let rest = toml::to_string(&table).map_err(|e| LoadError::History(e.to_string()))?;
    Ok((history, rest.into()))
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
