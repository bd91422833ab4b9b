-- Development only: one role and one database per service (DESIGN D5),
-- password = role name. Mirrors deploy/postgres/init/01-create-service-databases.sh.
CREATE ROLE membership LOGIN PASSWORD 'membership';
CREATE DATABASE membership OWNER membership;
CREATE ROLE billing LOGIN PASSWORD 'billing';
CREATE DATABASE billing OWNER billing;
CREATE ROLE elections LOGIN PASSWORD 'elections';
CREATE DATABASE elections OWNER elections;
CREATE ROLE board_meetings LOGIN PASSWORD 'board_meetings';
CREATE DATABASE board_meetings OWNER board_meetings;
CREATE ROLE notifications LOGIN PASSWORD 'notifications';
CREATE DATABASE notifications OWNER notifications;
REVOKE ALL ON DATABASE membership, billing, elections, board_meetings, notifications FROM PUBLIC;
