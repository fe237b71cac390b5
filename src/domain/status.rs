//! The request lifecycle: `new → in_work → waiting_department → answered → closed`, with `reopen`,
//! and `waiting_citizen` while a question to the citizen is open (a reply that asks and waits).
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
    /// An operator asked the citizen something and waits: the resolution clock holds until
    /// the citizen answers (docs/console.md, «ждёт заявителя»).
    WaitingCitizen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Resolved,
    Duplicate,
    OutOfScope,
    Spam,
    NoReplyNeeded,
    /// Asked and waited `[clocks] waiting_close_days` without an answer: closed politely.
    NoAnswer,
    /// Its thread was merged into another request (`Op::Merge`, `parent_id`): the citizen's
    /// follow-ups go there and its answers come back here. Only a merge closes so.
    Merged,
}

/// What happened to a request, as far as its status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Any change that needs an open request (assigning, for one).
    Change,
    Claim,
    Forward,
    DepartmentAnswer,
    Reply,
    /// A reply that asks the citizen something and waits for the answer.
    Ask,
    Close,
    Reopen,
    CitizenWrote,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a request that is {from}", action.verb())]
pub struct TransitionError {
    pub from: Status,
    pub action: Transition,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::InWork,
        Status::WaitingDepartment,
        Status::WaitingCitizen,
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
            Status::WaitingCitizen => "waiting_citizen",
        }
    }

    pub fn is_open(self) -> bool {
        self != Status::Closed
    }

    /// The status after `action`, or why the action is not allowed now.
    pub fn after(self, action: Transition) -> Result<Status, TransitionError> {
        use Status::*;
        let next = match (self, action) {
            (Closed, Transition::Reopen | Transition::CitizenWrote) => Some(InWork),
            (_, Transition::Reopen) => None,
            (Closed, _) => None,
            (s, Transition::Change) => Some(s),
            (New, Transition::Claim) => Some(InWork),
            (s, Transition::Claim) => Some(s),
            (_, Transition::Forward) => Some(WaitingDepartment),
            (WaitingDepartment, Transition::DepartmentAnswer) => Some(InWork),
            (_, Transition::DepartmentAnswer) => None,
            // An interim reply while the department works counts as a response but keeps waiting.
            (WaitingDepartment, Transition::Reply) => Some(WaitingDepartment),
            (_, Transition::Reply) => Some(Answered),
            // The department has it, and its clock runs: the question goes as a plain reply,
            // or once its answer is in.
            (WaitingDepartment, Transition::Ask) => None,
            (_, Transition::Ask) => Some(WaitingCitizen),
            (_, Transition::Close) => Some(Closed),
            (Answered | WaitingCitizen, Transition::CitizenWrote) => Some(InWork),
            (s, Transition::CitizenWrote) => Some(s),
        };
        next.ok_or(TransitionError { from: self, action })
    }

    /// Whether some action leads from `self` to `to`; the audit log is checked against this.
    pub fn can_become(self, to: Status) -> bool {
        self == to
            || [
                Transition::Claim,
                Transition::Forward,
                Transition::DepartmentAnswer,
                Transition::Reply,
                Transition::Ask,
                Transition::Close,
                Transition::Reopen,
                Transition::CitizenWrote,
            ]
            .iter()
            .any(|a| self.after(*a) == Ok(to))
    }
}

impl Transition {
    pub fn verb(self) -> &'static str {
        match self {
            Transition::Change => "change",
            Transition::Claim => "claim",
            Transition::Forward => "forward",
            Transition::DepartmentAnswer => "record a department answer for",
            Transition::Reply => "reply to",
            Transition::Ask => "ask the citizen of",
            Transition::Close => "close",
            Transition::Reopen => "reopen",
            Transition::CitizenWrote => "add a citizen message to",
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
                format!("unknown status `{s}` (expected new, in_work, waiting_department, waiting_citizen, answered, closed)")
            })
    }
}

impl CloseReason {
    pub const ALL: [CloseReason; 7] = [
        CloseReason::Resolved,
        CloseReason::Duplicate,
        CloseReason::OutOfScope,
        CloseReason::Spam,
        CloseReason::NoReplyNeeded,
        CloseReason::NoAnswer,
        CloseReason::Merged,
    ];

    /// The reasons an operator closes with by hand; `merged` comes only with a merge.
    pub fn chosen_by_hand(self) -> bool {
        self != CloseReason::Merged
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Resolved => "resolved",
            CloseReason::Duplicate => "duplicate",
            CloseReason::OutOfScope => "out_of_scope",
            CloseReason::Spam => "spam",
            CloseReason::NoReplyNeeded => "no_reply_needed",
            CloseReason::NoAnswer => "no_answer",
            CloseReason::Merged => "merged",
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
                    "unknown close reason `{s}` (expected resolved, duplicate, out_of_scope, spam, no_reply_needed, no_answer, merged)"
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
        let s = New.after(Transition::Claim).unwrap();
        assert_eq!(s, InWork);
        let s = s.after(Transition::Forward).unwrap();
        assert_eq!(s, WaitingDepartment);
        assert_eq!(s.after(Transition::Reply).unwrap(), WaitingDepartment);
        let s = s.after(Transition::DepartmentAnswer).unwrap();
        assert_eq!(s, InWork);
        let s = s.after(Transition::Reply).unwrap();
        assert_eq!(s, Answered);
        let s = s.after(Transition::Close).unwrap();
        assert_eq!(s, Closed);
        assert_eq!(s.after(Transition::Reopen).unwrap(), InWork);
    }

    #[test]
    fn invalid_transitions_say_why() {
        let e = Closed.after(Transition::Close).unwrap_err();
        assert_eq!(e.to_string(), "cannot close a request that is closed");
        assert!(Closed.after(Transition::Reply).is_err());
        assert!(Closed.after(Transition::Claim).is_err());
        assert!(InWork.after(Transition::Reopen).is_err());
        assert!(New.after(Transition::DepartmentAnswer).is_err());
    }

    #[test]
    fn citizen_writing_again_reopens_or_resumes() {
        assert_eq!(Closed.after(Transition::CitizenWrote), Ok(InWork));
        assert_eq!(Answered.after(Transition::CitizenWrote), Ok(InWork));
        assert_eq!(
            WaitingDepartment.after(Transition::CitizenWrote),
            Ok(WaitingDepartment)
        );
    }

    #[test]
    fn asking_waits_for_the_citizen_and_their_answer_resumes() {
        for from in [New, InWork, Answered, WaitingCitizen] {
            assert_eq!(from.after(Transition::Ask), Ok(WaitingCitizen), "{from}");
        }
        assert!(Closed.after(Transition::Ask).is_err());
        assert!(WaitingDepartment.after(Transition::Ask).is_err());
        assert_eq!(WaitingCitizen.after(Transition::CitizenWrote), Ok(InWork));
        assert_eq!(WaitingCitizen.after(Transition::Reply), Ok(Answered));
        assert_eq!(
            WaitingCitizen.after(Transition::Forward),
            Ok(WaitingDepartment)
        );
        assert_eq!(WaitingCitizen.after(Transition::Close), Ok(Closed));
        assert!(WaitingCitizen.after(Transition::DepartmentAnswer).is_err());
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
