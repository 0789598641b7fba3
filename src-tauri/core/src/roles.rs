//! Why this exists: who may do what is decided here, once, so every command (and every test of a
//! command) asks the same question instead of re-deriving it in the UI or the shell.

use crate::error::{CoreError, CoreResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    FacilityStaff,
    InstrumentUser,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::FacilityStaff => "facility_staff",
            Role::InstrumentUser => "instrument_user",
        }
    }
    pub fn parse(s: &str) -> CoreResult<Role> {
        match s {
            "administrator" => Ok(Role::Administrator),
            "facility_staff" => Ok(Role::FacilityStaff),
            "instrument_user" => Ok(Role::InstrumentUser),
            other => Err(CoreError::validation(format!("Unknown role '{other}'."))),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::FacilityStaff => "facility staff",
            Role::InstrumentUser => "instrument user",
        }
    }
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Administrator | Role::FacilityStaff)
    }
}

/// Things a signed-in account may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See their own bookings and the station overview.
    ViewOwnSchedule,
    /// See every booking and order on the station.
    ViewAllSchedule,
    /// Create, edit and delete services, events and orders.
    ManageSchedule,
    /// Create, edit, deactivate accounts and reset passwords.
    ManageAccounts,
    /// Change station settings.
    ManageSettings,
}

impl Permission {
    fn describe(self) -> &'static str {
        match self {
            Permission::ViewOwnSchedule => "view the schedule",
            Permission::ViewAllSchedule => "view every booking",
            Permission::ManageSchedule => "manage services, events and orders",
            Permission::ManageAccounts => "manage accounts",
            Permission::ManageSettings => "change station settings",
        }
    }
}

pub fn allows(role: Role, permission: Permission) -> bool {
    match permission {
        Permission::ViewOwnSchedule => true,
        Permission::ViewAllSchedule | Permission::ManageSchedule => role.is_staff(),
        Permission::ManageAccounts | Permission::ManageSettings => role == Role::Administrator,
    }
}

pub fn require(role: Role, permission: Permission) -> CoreResult<()> {
    if allows(role, permission) {
        Ok(())
    } else {
        Err(CoreError::forbidden(format!(
            "Your role ({}) may not {}.",
            role.label(),
            permission.describe()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_matrix() {
        use Permission::*;
        use Role::*;
        let table = [
            (Administrator, [true, true, true, true, true]),
            (FacilityStaff, [true, true, true, false, false]),
            (InstrumentUser, [true, false, false, false, false]),
        ];
        for (role, expected) in table {
            let got = [
                ViewOwnSchedule,
                ViewAllSchedule,
                ManageSchedule,
                ManageAccounts,
                ManageSettings,
            ]
            .map(|p| allows(role, p));
            assert_eq!(got, expected, "{role:?}");
        }
    }

    #[test]
    fn refusal_names_role_and_action() {
        let err = require(Role::InstrumentUser, Permission::ManageAccounts).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::Forbidden);
        assert_eq!(
            err.message,
            "Your role (instrument user) may not manage accounts."
        );
    }

    #[test]
    fn role_strings_round_trip() {
        for r in [
            Role::Administrator,
            Role::FacilityStaff,
            Role::InstrumentUser,
        ] {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Role::parse("root").is_err());
    }
}
