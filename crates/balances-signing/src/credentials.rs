//! An access key pair, and the keys derived from its secret. Both redact themselves in
//! `Debug`; neither implements `Display`.

use std::fmt;

use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::SigningError;

/// An access key id and its secret, as every one of the four clouds issues them (Alibaba's
/// AccessKey ID / AccessKey Secret, Tencent's SecretId / SecretKey, Volcengine's and Baidu's
/// Access Key ID / Secret Access Key).
///
/// The key id is sent in the clear in `Authorization`, but it is still kept as a
/// [`SecretString`]: half of a credential is not for logs either.
///
/// ```
/// use balances_signing::Credentials;
/// use secrecy::SecretString;
///
/// let credentials = Credentials::new(
///     SecretString::from("AKIDEXAMPLE"),
///     SecretString::from("wJalrXUtnFEMI"),
/// )?;
/// assert_eq!(format!("{credentials:?}"), "Credentials { access_key_id: [REDACTED], secret: [REDACTED] }");
/// # Ok::<(), balances_signing::SigningError>(())
/// ```
#[derive(Clone)]
pub struct Credentials {
    access_key_id: SecretString,
    secret: SecretString,
}

impl Credentials {
    /// Checks that the key id can be written into each scheme's `Authorization` syntax
    /// (visible ASCII without `/ , ; =`, which those syntaxes use as separators) and that the
    /// secret is not empty.
    pub fn new(access_key_id: SecretString, secret: SecretString) -> Result<Self, SigningError> {
        let id = access_key_id.expose_secret();
        let separator = |b: u8| matches!(b, b'/' | b',' | b';' | b'=');
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic() && !separator(b)) {
            return Err(SigningError::InvalidAccessKeyId);
        }
        if secret.expose_secret().is_empty() {
            return Err(SigningError::EmptySecret);
        }
        Ok(Self {
            access_key_id,
            secret,
        })
    }

    pub(crate) fn access_key_id(&self) -> &str {
        self.access_key_id.expose_secret()
    }

    pub(crate) fn secret(&self) -> &str {
        self.secret.expose_secret()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &format_args!("[REDACTED]"))
            .field("secret", &format_args!("[REDACTED]"))
            .finish()
    }
}

/// A key derived from the secret (Tencent's `SecretSigning`, Volcengine's `kSigning`): it
/// signs any request of its day, region and service, so it is as sensitive as the secret.
/// Exposed for tests that check each step of a scheme against the vendor's published values.
/// Zeroed when dropped ([`SecretSlice`]).
#[derive(Clone)]
pub struct SigningKey(SecretSlice<u8>);

impl SigningKey {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(SecretSlice::from(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The key in lowercase hex, as the vendors' worked examples print it. Never log it.
    pub fn expose_hex(&self) -> String {
        hex::encode(self.bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}
