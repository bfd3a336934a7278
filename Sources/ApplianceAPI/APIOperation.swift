/// The appliance operations this client performs; the raw value names them in logs and counters.
public enum APIOperation: String, Sendable, CaseIterable {
    case sessionCreate = "session_create"
    case sessionDelete = "session_delete"
    case reconciliationJobGet = "reconciliation_job_get"
    case restoreJobGet = "restore_job_get"
    case restoreJobCancel = "restore_job_cancel"
    case backupJobList = "backup_job_list"
    case backupJobDetailsGet = "backup_job_details_get"
    case backupSchedulesGet = "backup_schedules_get"
}

/// What an `ApplianceClient` reports as it works.
public enum APIEvent: Sendable {
    /// A request was sent (whatever its outcome).
    case request(APIOperation)
    /// An operation failed; a request that was answered and then failed to decode reports both.
    case failure(APIOperation, ApplianceError)
}
