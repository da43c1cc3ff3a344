//! ITK3 infrastructure and business responses (in progress).
