"""The six AWS Lambda entry points (DESIGN §1, §5): each parses its event and calls the AWS runtime.

Every module builds its dependencies once per cold start (``AwsRuntime.from_env``, which fails naming a
missing variable) and exports ``handler`` (Terraform: ``lambdas.<module>.handler``). ``build(runtime)``
makes a handler over a given runtime (tests pass one with a virtual clock or injected clients).
"""
