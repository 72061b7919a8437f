-- The upstream Glance schema at alembic head 2024_1_contract01, as upstream's
-- `glance-manage db sync` leaves it on PostgreSQL. Statements are separated by ';'
-- at the end of a line. SERIAL / BIGSERIAL give the `<table>_<column>_seq`
-- sequences upstream has; constraint names are PostgreSQL's defaults, as upstream's.
CREATE TYPE image_visibility AS ENUM ('private', 'public', 'shared', 'community');
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE images (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(255),
    size BIGINT,
    status VARCHAR(30) NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    deleted_at TIMESTAMP WITHOUT TIME ZONE,
    deleted BOOLEAN NOT NULL,
    disk_format VARCHAR(20),
    container_format VARCHAR(20),
    checksum VARCHAR(32),
    owner VARCHAR(255),
    min_disk INTEGER NOT NULL,
    min_ram INTEGER NOT NULL,
    protected BOOLEAN DEFAULT false NOT NULL,
    virtual_size BIGINT,
    visibility image_visibility DEFAULT 'shared' NOT NULL,
    os_hidden BOOLEAN DEFAULT false NOT NULL,
    os_hash_algo VARCHAR(64),
    os_hash_value VARCHAR(128),
    CONSTRAINT images_pkey PRIMARY KEY (id)
);
CREATE INDEX checksum_image_idx ON images (checksum);
CREATE INDEX created_at_image_idx ON images (created_at);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX os_hash_value_image_idx ON images (os_hash_value);
CREATE INDEX os_hidden_image_idx ON images (os_hidden);
CREATE INDEX owner_image_idx ON images (owner);
CREATE INDEX updated_at_image_idx ON images (updated_at);
CREATE INDEX visibility_image_idx ON images (visibility);
CREATE TABLE image_properties (
    id SERIAL NOT NULL,
    image_id VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    value TEXT,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    deleted_at TIMESTAMP WITHOUT TIME ZONE,
    deleted BOOLEAN NOT NULL,
    CONSTRAINT image_properties_pkey PRIMARY KEY (id),
    CONSTRAINT ix_image_properties_image_id_name UNIQUE (image_id, name),
    CONSTRAINT image_properties_image_id_fkey FOREIGN KEY (image_id) REFERENCES images (id)
);
CREATE INDEX ix_image_properties_deleted ON image_properties (deleted);
CREATE INDEX ix_image_properties_image_id ON image_properties (image_id);
CREATE TABLE image_locations (
    id SERIAL NOT NULL,
    image_id VARCHAR(36) NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    deleted_at TIMESTAMP WITHOUT TIME ZONE,
    deleted BOOLEAN NOT NULL,
    meta_data TEXT,
    status VARCHAR(30) DEFAULT 'active' NOT NULL,
    CONSTRAINT image_locations_pkey PRIMARY KEY (id),
    CONSTRAINT image_locations_image_id_fkey FOREIGN KEY (image_id) REFERENCES images (id)
);
CREATE INDEX ix_image_locations_deleted ON image_locations (deleted);
CREATE INDEX ix_image_locations_image_id ON image_locations (image_id);
CREATE TABLE image_members (
    id SERIAL NOT NULL,
    image_id VARCHAR(36) NOT NULL,
    member VARCHAR(255) NOT NULL,
    can_share BOOLEAN NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    deleted_at TIMESTAMP WITHOUT TIME ZONE,
    deleted BOOLEAN NOT NULL,
    status VARCHAR(20) DEFAULT 'pending' NOT NULL,
    CONSTRAINT image_members_pkey PRIMARY KEY (id),
    CONSTRAINT image_members_image_id_member_deleted_at_key UNIQUE (image_id, member, deleted_at),
    CONSTRAINT image_members_image_id_fkey FOREIGN KEY (image_id) REFERENCES images (id)
);
CREATE INDEX ix_image_members_deleted ON image_members (deleted);
CREATE INDEX ix_image_members_image_id ON image_members (image_id);
CREATE INDEX ix_image_members_image_id_member ON image_members (image_id, member);
CREATE TABLE image_tags (
    id SERIAL NOT NULL,
    image_id VARCHAR(36) NOT NULL,
    value VARCHAR(255) NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    deleted_at TIMESTAMP WITHOUT TIME ZONE,
    deleted BOOLEAN NOT NULL,
    CONSTRAINT image_tags_pkey PRIMARY KEY (id),
    CONSTRAINT image_tags_image_id_fkey FOREIGN KEY (image_id) REFERENCES images (id)
);
CREATE INDEX ix_image_tags_image_id ON image_tags (image_id);
CREATE INDEX ix_image_tags_image_id_tag_value ON image_tags (image_id, value);
CREATE TABLE tasks (
    id VARCHAR(36) NOT NULL,
    type VARCHAR(30) NOT NULL,
    status VARCHAR(30) NOT NULL,
    owner VARCHAR(255) NOT NULL,
    expires_at TIMESTAMP WITHOUT TIME ZONE,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    deleted_at TIMESTAMP WITHOUT TIME ZONE,
    deleted BOOLEAN NOT NULL,
    image_id VARCHAR(36),
    request_id VARCHAR(64),
    user_id VARCHAR(64),
    CONSTRAINT tasks_pkey PRIMARY KEY (id)
);
CREATE INDEX ix_tasks_deleted ON tasks (deleted);
CREATE INDEX ix_tasks_image_id ON tasks (image_id);
CREATE INDEX ix_tasks_owner ON tasks (owner);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_type ON tasks (type);
CREATE INDEX ix_tasks_updated_at ON tasks (updated_at);
CREATE TABLE task_info (
    task_id VARCHAR(36) NOT NULL,
    input TEXT,
    result TEXT,
    message TEXT,
    CONSTRAINT task_info_pkey PRIMARY KEY (task_id),
    CONSTRAINT task_info_task_id_fkey FOREIGN KEY (task_id) REFERENCES tasks (id)
);
CREATE TABLE metadef_namespaces (
    id SERIAL NOT NULL,
    namespace VARCHAR(80) NOT NULL,
    display_name VARCHAR(80),
    description TEXT,
    visibility VARCHAR(32),
    protected BOOLEAN,
    owner VARCHAR(255) NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT metadef_namespaces_pkey PRIMARY KEY (id),
    CONSTRAINT uq_metadef_namespaces_namespace UNIQUE (namespace)
);
CREATE INDEX ix_metadef_namespaces_owner ON metadef_namespaces (owner);
CREATE TABLE metadef_resource_types (
    id SERIAL NOT NULL,
    name VARCHAR(80) NOT NULL,
    protected BOOLEAN NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT metadef_resource_types_pkey PRIMARY KEY (id),
    CONSTRAINT uq_metadef_resource_types_name UNIQUE (name)
);
CREATE TABLE metadef_namespace_resource_types (
    resource_type_id INTEGER NOT NULL,
    namespace_id INTEGER NOT NULL,
    properties_target VARCHAR(80),
    prefix VARCHAR(80),
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT metadef_namespace_resource_types_pkey PRIMARY KEY (resource_type_id, namespace_id),
    CONSTRAINT metadef_namespace_resource_types_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id),
    CONSTRAINT metadef_namespace_resource_types_resource_type_id_fkey FOREIGN KEY (resource_type_id) REFERENCES metadef_resource_types (id)
);
CREATE INDEX ix_metadef_ns_res_types_namespace_id ON metadef_namespace_resource_types (namespace_id);
CREATE TABLE metadef_objects (
    id SERIAL NOT NULL,
    namespace_id INTEGER NOT NULL,
    name VARCHAR(80) NOT NULL,
    description TEXT,
    required TEXT,
    json_schema TEXT NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT metadef_objects_pkey PRIMARY KEY (id),
    CONSTRAINT uq_metadef_objects_namespace_id_name UNIQUE (namespace_id, name),
    CONSTRAINT metadef_objects_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id)
);
CREATE INDEX ix_metadef_objects_name ON metadef_objects (name);
CREATE TABLE metadef_properties (
    id SERIAL NOT NULL,
    namespace_id INTEGER NOT NULL,
    name VARCHAR(80) NOT NULL,
    json_schema TEXT NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT metadef_properties_pkey PRIMARY KEY (id),
    CONSTRAINT uq_metadef_properties_namespace_id_name UNIQUE (namespace_id, name),
    CONSTRAINT metadef_properties_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id)
);
CREATE INDEX ix_metadef_properties_name ON metadef_properties (name);
CREATE TABLE metadef_tags (
    id SERIAL NOT NULL,
    namespace_id INTEGER NOT NULL,
    name VARCHAR(80) NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT metadef_tags_pkey PRIMARY KEY (id),
    CONSTRAINT uq_metadef_tags_namespace_id_name UNIQUE (namespace_id, name),
    CONSTRAINT metadef_tags_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id)
);
CREATE INDEX ix_metadef_tags_name ON metadef_tags (name);
CREATE TABLE node_reference (
    node_reference_id BIGSERIAL NOT NULL,
    node_reference_url VARCHAR(255) NOT NULL,
    CONSTRAINT node_reference_pkey PRIMARY KEY (node_reference_id),
    CONSTRAINT uq_node_reference_node_reference_url UNIQUE (node_reference_url)
);
CREATE TABLE cached_images (
    id BIGSERIAL NOT NULL,
    image_id VARCHAR(36) NOT NULL,
    last_accessed TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    last_modified TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    size BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    checksum VARCHAR(32),
    node_reference_id BIGINT NOT NULL,
    CONSTRAINT cached_images_pkey PRIMARY KEY (id),
    CONSTRAINT ix_cached_images_image_id_node_reference_id UNIQUE (image_id, node_reference_id),
    CONSTRAINT cached_images_node_reference_id_fkey FOREIGN KEY (node_reference_id) REFERENCES node_reference (node_reference_id)
);
INSERT INTO alembic_version (version_num) VALUES ('2024_1_contract01');
