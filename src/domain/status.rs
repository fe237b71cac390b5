//! The request lifecycle: `new → in_work → waiting_department → answered → closed`, with `reopen`.
//! Status changes only as the consequence of an action, so the rules live here in one table.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    InWork,
    WaitingDepartment,
    Answered,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Resolved,
    Duplicate,
    OutOfScope,
    Spam,
    NoReplyNeeded,
}

/// What happened to a request, as far as its status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Any change that needs an open request (assigning, for one).
    Change,
    Claim,
    Forward,
    DepartmentAnswer,
    Reply,
    Close,
    Reopen,
    CitizenWrote,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a request that is {from}", action.verb())]
pub struct TransitionError {
    pub from: Status,
    pub action: Action,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::InWork,
        Status::WaitingDepartment,
        Status::Answered,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InWork => "in_work",
            Status::WaitingDepartment => "waiting_department",
            Status::Answered => "answered",
            Status::Closed => "closed",
        }
    }

    pub fn is_open(self) -> bool {
        self != Status::Closed
    }

    /// The status after `action`, or why the action is not allowed now.
    pub fn after(self, action: Action) -> Result<Status, TransitionError> {
        use Status::*;
        let next = match (self, action) {
            (Closed, Action::Reopen | Action::CitizenWrote) => Some(InWork),
            (_, Action::Reopen) => None,
            (Closed, _) => None,
            (s, Action::Change) => Some(s),
            (New, Action::Claim) => Some(InWork),
            (s, Action::Claim) => Some(s),
            (_, Action::Forward) => Some(WaitingDepartment),
            (WaitingDepartment, Action::DepartmentAnswer) => Some(InWork),
            (_, Action::DepartmentAnswer) => None,
            // An interim reply while the department works counts as a response but keeps waiting.
            (WaitingDepartment, Action::Reply) => Some(WaitingDepartment),
            (_, Action::Reply) => Some(Answered),
            (_, Action::Close) => Some(Closed),
            (Answered, Action::CitizenWrote) => Some(InWork),
            (s, Action::CitizenWrote) => Some(s),
        };
        next.ok_or(TransitionError { from: self, action })
    }

    /// Whether some action leads from `self` to `to`; the audit log is checked against this.
    pub fn can_become(self, to: Status) -> bool {
        self == to
            || [
                Action::Claim,
                Action::Forward,
                Action::DepartmentAnswer,
                Action::Reply,
                Action::Close,
                Action::Reopen,
                Action::CitizenWrote,
            ]
            .iter()
            .any(|a| self.after(*a) == Ok(to))
    }
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Change => "change",
            Action::Claim => "claim",
            Action::Forward => "forward",
            Action::DepartmentAnswer => "record a department answer for",
            Action::Reply => "reply to",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::CitizenWrote => "add a citizen message to",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("unknown status `{s}` (expected new, in_work, waiting_department, answered, closed)")
            })
    }
}

impl CloseReason {
    pub const ALL: [CloseReason; 5] = [
        CloseReason::Resolved,
        CloseReason::Duplicate,
        CloseReason::OutOfScope,
        CloseReason::Spam,
        CloseReason::NoReplyNeeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Resolved => "resolved",
            CloseReason::Duplicate => "duplicate",
            CloseReason::OutOfScope => "out_of_scope",
            CloseReason::Spam => "spam",
            CloseReason::NoReplyNeeded => "no_reply_needed",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CloseReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CloseReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown close reason `{s}` (expected resolved, duplicate, out_of_scope, spam, no_reply_needed)"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn main_cycle() {
        let s = New.after(Action::Claim).unwrap();
        assert_eq!(s, InWork);
        let s = s.after(Action::Forward).unwrap();
        assert_eq!(s, WaitingDepartment);
        assert_eq!(s.after(Action::Reply).unwrap(), WaitingDepartment);
        let s = s.after(Action::DepartmentAnswer).unwrap();
        assert_eq!(s, InWork);
        let s = s.after(Action::Reply).unwrap();
        assert_eq!(s, Answered);
        let s = s.after(Action::Close).unwrap();
        assert_eq!(s, Closed);
        assert_eq!(s.after(Action::Reopen).unwrap(), InWork);
    }

    #[test]
    fn invalid_transitions_say_why() {
        let e = Closed.after(Action::Close).unwrap_err();
        assert_eq!(e.to_string(), "cannot close a request that is closed");
        assert!(Closed.after(Action::Reply).is_err());
        assert!(Closed.after(Action::Claim).is_err());
        assert!(InWork.after(Action::Reopen).is_err());
        assert!(New.after(Action::DepartmentAnswer).is_err());
    }

    #[test]
    fn citizen_writing_again_reopens_or_resumes() {
        assert_eq!(Closed.after(Action::CitizenWrote), Ok(InWork));
        assert_eq!(Answered.after(Action::CitizenWrote), Ok(InWork));
        assert_eq!(
            WaitingDepartment.after(Action::CitizenWrote),
            Ok(WaitingDepartment)
        );
    }

    #[test]
    fn closed_is_left_only_by_reopen() {
        for to in Status::ALL {
            if to != Closed && to != InWork {
                assert!(!Closed.can_become(to), "closed -> {to}");
            }
        }
        assert!(InWork.can_become(Answered));
        assert!(!Answered.can_become(New));
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        for r in CloseReason::ALL {
            assert_eq!(r.as_str().parse::<CloseReason>(), Ok(r));
        }
        assert!("done".parse::<Status>().unwrap_err().contains("done"));
    }
}
