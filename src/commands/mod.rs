pub mod check;
pub mod convert;
pub mod coverage;
pub mod explain;
pub mod hunt;
pub mod ir;
pub mod list;
pub mod test;
