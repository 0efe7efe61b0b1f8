"""Instructor side of the course's exercises: nbgrader course, hidden checks, sandboxed grader, command line.

Run ``python -m autograder --help``; instructors read autograder/README.md.
"""
