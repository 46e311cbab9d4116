pub mod check;
pub mod ir;
