-- One database per service per node: no two services, and no two nodes, share one
-- (docs/contract.md: one database per service). Run once by the postgres image, on an empty data volume, as POSTGRES_USER.
-- Each service creates its own tables at start (Alembic, BIGSCHOOL_MIGRATE_ON_START).

CREATE DATABASE zj_enrollment;
CREATE DATABASE zj_awards;
CREATE DATABASE zj_notifications;

CREATE DATABASE hzsteel_enrollment;
CREATE DATABASE hzsteel_awards;
CREATE DATABASE hzsteel_notifications;
