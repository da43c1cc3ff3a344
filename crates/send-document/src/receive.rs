//! Reading and checking an incoming Send Document message (in progress).
