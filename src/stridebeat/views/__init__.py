"""Ways to look at a job: tables and summaries for people, timeline JSON and CSV for programs, plots, reports."""
