"""kgit's use cases, one module each: what a verb does, between its options and its view.

A verb in ``kgit/cli`` parses its ``...Options`` (declared here), calls one function of
this package and renders what it returns. The flows live here: which source to read,
the plan-then-apply sequence, a watch round; the pieces they compose live in the packages
that own them (source, manifests, cluster, state, plan, apply).
"""
