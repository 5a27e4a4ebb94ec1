"""Process entry point for separate Dramatiq workers (`dramatiq workers.main`)."""
