"""Rules of eligibility facts, pure Python: no fastapi, sqlalchemy or faststream here."""
