//! Commissions: the job that turns a recorded transaction into rewards ([`job`]) and who they
//! go to ([`attribution`]). The plan itself is a pure function in `domain::plan`.

pub mod attribution;
pub mod job;
