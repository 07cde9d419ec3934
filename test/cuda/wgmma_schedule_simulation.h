// The persistent wgmma GEMMs' schedule run against a simulated block on the CPU (see the .cpp).
#pragma once
#include <functional>
#include <string>

// Reports each finding through `check(ok, what)`.
void wgmma_schedule_simulation(const std::function<void(bool, const std::string&)>& check);
