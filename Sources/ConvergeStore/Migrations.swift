/// The schema, as numbered steps. A database at version N gets steps N+1... on open, in one transaction
/// (SQLite: under the write lock; PostgreSQL: under an advisory lock), so concurrent processes migrate once.
/// Steps are only ever appended: a released step never changes.
///
/// Columns use types both SQLite and PostgreSQL accept; times are Unix milliseconds (BIGINT).
enum Migrations {
    struct Step {
        var version: Int
        var summary: String
        var statements: [String]
    }

    static let steps: [Step] = [
        Step(version: 1, summary: "surveys, turns and requests", statements: [
            """
            CREATE TABLE surveys (
                id TEXT PRIMARY KEY,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                prompt TEXT NOT NULL,
                panel_size BIGINT NOT NULL,
                spec TEXT NOT NULL
            )
            """,
            "CREATE INDEX surveys_created ON surveys (created_at)",
            """
            CREATE TABLE turns (
                survey_id TEXT NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
                turn_index BIGINT NOT NULL,
                prompt TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (survey_id, turn_index)
            )
            """,
            """
            CREATE TABLE requests (
                survey_id TEXT NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
                turn_index BIGINT NOT NULL,
                panelist_id TEXT NOT NULL,
                sample BIGINT NOT NULL,
                state TEXT NOT NULL,
                cache_key TEXT NOT NULL,
                request TEXT NOT NULL,
                response_text TEXT,
                latency_ms BIGINT,
                input_tokens BIGINT,
                output_tokens BIGINT,
                finish_reason TEXT,
                provider_request_id TEXT,
                response_model TEXT,
                error TEXT,
                attempts BIGINT NOT NULL,
                from_cache BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (survey_id, turn_index, panelist_id, sample)
            )
            """,
        ]),
        Step(version: 2, summary: "analyses; response cache index", statements: [
            "CREATE INDEX requests_cache ON requests (cache_key, state)",
            """
            CREATE TABLE analyses (
                id TEXT PRIMARY KEY,
                survey_id TEXT NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
                turn_index BIGINT NOT NULL,
                engine TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                report TEXT NOT NULL
            )
            """,
            "CREATE INDEX analyses_survey ON analyses (survey_id, created_at)",
        ]),
        Step(version: 3, summary: "the process that is asking a survey", statements: [
            "ALTER TABLE surveys ADD COLUMN owner TEXT",
        ]),
        // The requests Converge itself makes for a survey (a judge): their answers are a response cache like
        // the panel's, and go with the survey when it is deleted (they quote its answers).
        Step(version: 4, summary: "model calls made for a survey (the judge)", statements: [
            """
            CREATE TABLE model_calls (
                survey_id TEXT NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
                cache_key TEXT NOT NULL,
                request TEXT NOT NULL,
                response_text TEXT NOT NULL,
                latency_ms BIGINT,
                input_tokens BIGINT,
                output_tokens BIGINT,
                finish_reason TEXT,
                provider_request_id TEXT,
                response_model TEXT,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (survey_id, cache_key)
            )
            """,
            "CREATE INDEX model_calls_cache ON model_calls (cache_key)",
        ]),
        // No foreign key from an item to its survey: a survey deleted on its own leaves the item, shown as gone.
        Step(version: 5, summary: "batches of surveys", statements: [
            """
            CREATE TABLE batches (
                id TEXT PRIMARY KEY,
                created_at BIGINT NOT NULL,
                source TEXT NOT NULL,
                spec TEXT NOT NULL
            )
            """,
            "CREATE INDEX batches_created ON batches (created_at)",
            """
            CREATE TABLE batch_items (
                batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                item_index BIGINT NOT NULL,
                item_id TEXT NOT NULL,
                survey_id TEXT NOT NULL,
                PRIMARY KEY (batch_id, item_index)
            )
            """,
            "CREATE INDEX batch_items_survey ON batch_items (survey_id)",
        ]),
        // The work queue of `converge worker` (PostgreSQL; on SQLite the table exists and stays empty): one job per
        // conversation thread (a panelist's sample of a survey), leased by one worker at a time. A lease ends at
        // `lease_expires` (Unix ms, the database's clock) unless its worker's heartbeat extends it; `lease_token`
        // changes at every claim, and every write of a leased job names it, so a worker that lost its lease
        // cannot write. `limit_key`/`limit_max` are the provider and its concurrency limit, counted over leased
        // rows of every worker.
        Step(version: 6, summary: "the work queue of converge worker", statements: [
            """
            CREATE TABLE queue_jobs (
                id TEXT PRIMARY KEY,
                survey_id TEXT NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
                panelist_id TEXT NOT NULL,
                sample BIGINT NOT NULL,
                limit_key TEXT NOT NULL,
                limit_max BIGINT NOT NULL,
                use_cache BIGINT NOT NULL,
                state TEXT NOT NULL,
                lease_owner TEXT,
                lease_token TEXT,
                lease_expires BIGINT,
                claims BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX queue_jobs_claim ON queue_jobs (limit_key, state, created_at)",
            // What is claimable, without reading the done jobs of every earlier batch.
            "CREATE INDEX queue_jobs_state ON queue_jobs (state, lease_expires)",
            "CREATE INDEX queue_jobs_survey ON queue_jobs (survey_id)",
        ]),
        // Sentence vectors an analysis of a survey computed, kept with it (deleted with it: they are derived
        // from its answers) and found from any survey by model identity and text hash.
        Step(version: 7, summary: "sentence embeddings computed for a survey", statements: [
            """
            CREATE TABLE embeddings (
                survey_id TEXT NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
                model TEXT NOT NULL,
                text_hash TEXT NOT NULL,
                vector TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (survey_id, model, text_hash)
            )
            """,
            "CREATE INDEX embeddings_lookup ON embeddings (model, text_hash)",
        ]),
    ]

    /// The version this build writes.
    static var latest: Int { steps.last?.version ?? 0 }
}
