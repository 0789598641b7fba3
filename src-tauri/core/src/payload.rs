//! Why this exists: the request body of every webhook, exactly as the facility system sends it: a
//! JSON object holding `order_id` and either `line_id` (order actions) or `event_id` (event and
//! interlock actions), with the webhook's configured body data attached and every system key
//! overwriting a configured key of the same name.

use crate::webhook::{Action, ActionType};
use serde_json::{Map, Value};

/// The system's part of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemKeys {
    pub order_id: Option<String>,
    /// `line_id` for order actions, `event_id` for event and interlock actions.
    pub subject_id: Option<String>,
}

pub fn build(action: Action, system: &SystemKeys, configured: &Map<String, Value>) -> Value {
    let mut body = configured.clone();
    let opt = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    body.insert("order_id".into(), opt(&system.order_id));
    let key = match action.kind {
        ActionType::Order => "line_id",
        ActionType::Event | ActionType::Interlock => "event_id",
    };
    body.insert(key.into(), opt(&system.subject_id));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{ActionSubtype::*, ActionType::*};
    use serde_json::json;

    fn cfg(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn order_actions_carry_line_id() {
        let p = build(
            Action::new(Order, Create),
            &SystemKeys {
                order_id: Some("O1".into()),
                subject_id: Some("L1".into()),
            },
            &cfg(json!({"site": "B2"})),
        );
        assert_eq!(p, json!({"order_id": "O1", "line_id": "L1", "site": "B2"}));
    }

    #[test]
    fn event_and_interlock_actions_carry_event_id() {
        for a in [Action::new(Event, Delete), Action::new(Interlock, Unlock)] {
            let p = build(
                a,
                &SystemKeys {
                    order_id: None,
                    subject_id: Some("E1".into()),
                },
                &Map::new(),
            );
            assert_eq!(p, json!({"order_id": null, "event_id": "E1"}));
        }
    }

    #[test]
    fn system_keys_overwrite_configured_keys() {
        let p = build(
            Action::new(Event, Update),
            &SystemKeys {
                order_id: Some("O9".into()),
                subject_id: Some("E9".into()),
            },
            &cfg(json!({"order_id": "fake", "event_id": "fake", "line_id": "kept", "x": [1]})),
        );
        assert_eq!(
            p,
            json!({"order_id": "O9", "event_id": "E9", "line_id": "kept", "x": [1]})
        );
    }
}
