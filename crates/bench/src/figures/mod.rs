//! The figures, one group per module, each measured and added to the report
//! in the order of the table.

pub mod consumer;
pub mod memory;
pub mod startup;
pub mod tcp;
pub mod udp;
