"""One module per mechanism. Each has plain functions over the model's arrays, its parameters and
its random streams (testable alone on small arrays), and its month's stages, `run(world)`, which
read those from the model's state (`world.World`). The order the stages run in is the list
`simulation.model.MONTH` (the README's table "The month" is made from it).
"""
