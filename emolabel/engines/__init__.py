"""Other places to run the annotate job than this process."""
