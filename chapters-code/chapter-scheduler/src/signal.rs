//! Signals: asynchronous preemption by SIGURG and the stack-overflow report. (In progress.)

use crate::proc::{Sched, M};

pub(crate) fn install(_sched: &Sched) {}
pub(crate) fn minit() {}
pub(crate) fn preempt_m(_mp: &M) -> bool {
    false
}
