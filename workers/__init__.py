"""Background workers: the Dramatiq broker set-up and the (thin) actors."""
