//! Why this exists: a secret (password, token, signing key) must never reach a log, an error
//! message, the database or the UI by accident. `Sensitive<T>` prints as `<redacted>` and refuses
//! to serialize; the only way to the value is the explicit `expose()`.

use serde::{Serialize, Serializer};

#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }
    /// The secret itself; call only where it goes into the request that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> std::fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> Serialize for Sensitive<T> {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refusing to serialize a secret"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_its_value() {
        let s = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert!(serde_json::to_string(&s).is_err());
        #[derive(Serialize)]
        struct Holder {
            token: Sensitive<String>,
        }
        let err = serde_json::to_string(&Holder { token: s.clone() }).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }
}
