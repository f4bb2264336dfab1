"""The workers' SMS outcomes reach /metrics (counted in the job queue's Redis)."""

from tests.web.test_server_ops import metric


def test_sms_sent_by_the_worker_are_counted_in_metrics(client, book, work, sent_sms):
    book()
    work()
    assert len(sent_sms()) == 1
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, 'antrian_sms_total{event="booked",state="sent"}') == 1
    assert metric(text, 'antrian_job_queue_depth{queue="sms"}') == 0
