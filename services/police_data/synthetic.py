"""Realistic synthetic records for tests and benchmarks: nothing real.

Document numbers in each country's format, VINs with valid check digits, plates, and persons
named per region and script with their transliterations; a labelled set of misspelt and
transliterated person queries with the record each should find.
"""
