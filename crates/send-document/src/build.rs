//! Building a valid Send Document message and its MESH envelope (in progress).
