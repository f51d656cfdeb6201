//! Commissions: the job that turns a recorded transaction into rewards ([`job`]) and who they
//! go to ([`attribution`]), under which plan ([`decide`]). The plan itself is a pure function in `domain::plan`.

pub mod attribution;
pub mod decide;
pub mod job;
