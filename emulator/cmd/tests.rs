//! Table-driven tests of expansion, built-ins and batch files on a fresh Server 2003.

use super::*;
use crate::machine::MachineConfig;

fn machine() -> Machine {
    Machine::new(MachineConfig::new(Edition::Win2003))
}
