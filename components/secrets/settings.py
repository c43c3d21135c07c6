"""The admin user (``airflow:admin``) and Fernet key generations (``airflow:fernet``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from components.model import ConfigModel, matching

__all__ = ["AdminSettings", "FernetSettings"]

UserName = matching(r"[A-Za-z0-9_.@-]{1,64}", "1 to 64 letters, digits, '_', '.', '@' or '-'")
# Braces refused: the chart evaluates createUserJob.args with tpl, so {{ ... }} would run as a template.
Email = matching(
    r"(?=.{3,254}\Z)[^@\s{}]+@[^@\s{}]+\.[^@\s{}]+", "an e-mail address (name@example.com), without braces"
)
PersonName = matching(r"[^\s{}]{1,64}", "1 to 64 characters without spaces or braces")


class AdminSettings(ConfigModel):
    """The admin user the create-user Job makes; its password is generated, never configured."""

    username: UserName = "admin"
    email: Email = "admin@example.com"
    first_name: PersonName = "Airflow"
    last_name: PersonName = "Admin"


class FernetSettings(ConfigModel):
    """Fernet key rotation without losing a stored connection or variable.

    Bump ``generation`` and set ``previousGeneration`` to the old one: the next ``up`` generates a new
    key, gives Airflow ``new,old`` (every pod restarts with both), then a Job runs ``airflow
    rotate-fernet-key`` once, re-encrypting everything under the new key. Only a later ``up`` without
    ``previousGeneration`` drops the old key.
    """

    generation: int = Field(0, ge=0, le=1000)
    previous_generation: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _previous_is_older(self) -> FernetSettings:
        if self.previous_generation is not None and self.previous_generation >= self.generation:
            raise ValueError(
                f"previousGeneration {self.previous_generation} must be below generation {self.generation}: "
                "bump generation to make a new key and name the one it replaces"
            )
        return self

    @property
    def held_generations(self) -> str:
        """The generations of the keys Airflow holds, newest first: ``3,2`` while rotating, then ``3``.
        Every Airflow pod is annotated with it, so each change restarts them all: a pod reads the key
        from its environment at start, and one left running would keep a dropped key."""
        held = (
            [self.generation]
            if self.previous_generation is None
            else [self.generation, self.previous_generation]
        )
        return ",".join(str(g) for g in held)
