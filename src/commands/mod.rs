pub mod check;
pub mod hunt;
pub mod ir;
pub mod list;
