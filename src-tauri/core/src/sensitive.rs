//! Why this exists: a secret (password, token, signing key) must never reach a log, an error
//! message, the database or the UI by accident. `Sensitive<T>` prints as `<redacted>` and refuses
//! to serialize; the only way to the value is the explicit `expose()`. Inbound secrets (a password
//! typed in the window, a secret header's new value) deserialize straight into it, so no `Debug`
//! of an input struct can show them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sensitive<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Sensitive)
    }
}

/// In the generated TypeScript bindings a `Sensitive<String>` is a plain `string`.
impl<T: specta::Type> specta::Type for Sensitive<T> {
    fn inline(types: &mut specta::TypeCollection, generics: specta::Generics) -> specta::DataType {
        T::inline(types, generics)
    }
    fn reference(
        types: &mut specta::TypeCollection,
        generics: &[specta::DataType],
    ) -> specta::datatype::reference::Reference {
        T::reference(types, generics)
    }
}

impl From<&str> for Sensitive<String> {
    fn from(value: &str) -> Self {
        Sensitive(value.to_string())
    }
}

impl From<String> for Sensitive<String> {
    fn from(value: String) -> Self {
        Sensitive(value)
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

    #[test]
    fn deserializes_and_stays_redacted() {
        #[derive(Debug, Deserialize)]
        struct Input {
            password: Sensitive<String>,
        }
        let i: Input = serde_json::from_str(r#"{"password":"hunter2"}"#).unwrap();
        assert_eq!(i.password.expose(), "hunter2");
        assert!(!format!("{i:?}").contains("hunter2"));
    }
}
