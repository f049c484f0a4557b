"""One module per mechanism, called by the model's monthly step in this order:

participation, separations, business, developers, providers, skills, matching, accounts.

Each is a set of plain functions over the model's arrays, its parameters and its random streams,
so it can be tested alone on small arrays.
"""
